CREATE TABLE `workspace_archives` (
	`workspace_id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`host_id` text NOT NULL,
	`object_key` text NOT NULL,
	`upload_id` text,
	`phase` text NOT NULL,
	`part_size` integer NOT NULL,
	`size_bytes` integer,
	`sha256` text,
	`part_hashes` text,
	`parts` text NOT NULL,
	`attempts` integer NOT NULL,
	`last_error_code` text,
	`lease_until` integer,
	`started_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`completed_at` integer,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `workspace_archives_user_idx` ON `workspace_archives` (`user_id`);--> statement-breakpoint
CREATE INDEX `workspace_archives_phase_idx` ON `workspace_archives` (`phase`);--> statement-breakpoint
ALTER TABLE `users` ADD `usage_limit_hours` integer;--> statement-breakpoint
ALTER TABLE `users` ADD `usage_alert_month` text;--> statement-breakpoint
ALTER TABLE `users` ADD `usage_alert_percent` integer;--> statement-breakpoint
ALTER TABLE `workspaces` ADD `transfer_bytes` integer;--> statement-breakpoint
ALTER TABLE `workspaces` ADD `deletion_warned_at` integer;
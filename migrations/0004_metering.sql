CREATE TABLE `usage_records` (
	`id` text PRIMARY KEY NOT NULL,
	`session_id` text NOT NULL,
	`user_id` text NOT NULL,
	`plan_id` text NOT NULL,
	`interval_start` integer NOT NULL,
	`interval_end` integer NOT NULL,
	`quantity` integer NOT NULL,
	`created_at` integer NOT NULL,
	`reported_at` integer,
	`expired_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `usage_records_session_interval` ON `usage_records` (`session_id`,`interval_start`);--> statement-breakpoint
CREATE INDEX `usage_records_unreported_idx` ON `usage_records` (`reported_at`,`expired_at`,`interval_start`);--> statement-breakpoint
CREATE INDEX `usage_records_user_idx` ON `usage_records` (`user_id`);--> statement-breakpoint
CREATE INDEX `usage_records_interval_end_idx` ON `usage_records` (`interval_end`);
CREATE TABLE `privacy_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`kind` text NOT NULL,
	`message` text,
	`state` text NOT NULL,
	`reason` text,
	`created_at` integer NOT NULL,
	`due_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`reminded` text
);
--> statement-breakpoint
CREATE INDEX `privacy_requests_user_idx` ON `privacy_requests` (`user_id`);--> statement-breakpoint
CREATE INDEX `privacy_requests_state_due_idx` ON `privacy_requests` (`state`,`due_at`);
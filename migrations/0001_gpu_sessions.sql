CREATE TABLE `command_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`user_id` text NOT NULL,
	`session_id` text,
	`command` text NOT NULL,
	`at` integer NOT NULL,
	`request_id` text
);
--> statement-breakpoint
CREATE INDEX `command_log_user_idx` ON `command_log` (`user_id`);--> statement-breakpoint
CREATE INDEX `command_log_at_idx` ON `command_log` (`at`);--> statement-breakpoint
CREATE TABLE `gpu_hosts` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`transport` text NOT NULL,
	`base_url` text NOT NULL,
	`gpu_type` text,
	`gpu_count` integer NOT NULL,
	`status` text NOT NULL,
	`registered_at` integer NOT NULL,
	`last_seen_at` integer
);
--> statement-breakpoint
CREATE TABLE `sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`workspace_id` text NOT NULL,
	`host_id` text NOT NULL,
	`plan_id` text NOT NULL,
	`state` text NOT NULL,
	`created_at` integer NOT NULL,
	`started_at` integer,
	`ended_at` integer,
	`duration_ms` integer,
	`container_id` text,
	`gpu_type` text,
	`gpu_count` integer NOT NULL,
	`gpu_ids` text,
	`cpus` real NOT NULL,
	`memory_mb` integer NOT NULL,
	`pids_limit` integer NOT NULL,
	`ports` text NOT NULL,
	`failure_code` text,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`host_id`) REFERENCES `gpu_hosts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sessions_one_live_per_user` ON `sessions` (`user_id`) WHERE state in ('starting', 'running', 'stopping');--> statement-breakpoint
CREATE INDEX `sessions_user_created_idx` ON `sessions` (`user_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `sessions_host_state_idx` ON `sessions` (`host_id`,`state`);--> statement-breakpoint
CREATE INDEX `sessions_ended_at_idx` ON `sessions` (`ended_at`);--> statement-breakpoint
CREATE TABLE `workspaces` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`host_id` text,
	`state` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_used_at` integer NOT NULL,
	`deleted_at` integer,
	`size_bytes` integer,
	`size_measured_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`host_id`) REFERENCES `gpu_hosts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `workspaces_one_per_user` ON `workspaces` (`user_id`) WHERE state <> 'deleted';--> statement-breakpoint
CREATE INDEX `workspaces_user_idx` ON `workspaces` (`user_id`);--> statement-breakpoint
CREATE INDEX `workspaces_last_used_idx` ON `workspaces` (`last_used_at`);--> statement-breakpoint
CREATE INDEX `workspaces_deleted_at_idx` ON `workspaces` (`deleted_at`);
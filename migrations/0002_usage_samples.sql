CREATE TABLE `usage_samples` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`session_id` text NOT NULL,
	`user_id` text NOT NULL,
	`at` integer NOT NULL,
	`gpu_count` integer NOT NULL,
	`gpu_utilization_percent` real,
	`gpu_utilization_max_percent` real,
	`gpu_memory_used_mb` integer,
	`gpu_memory_total_mb` integer,
	`cpu_percent` real,
	`memory_used_bytes` integer,
	`shells_attached` integer NOT NULL,
	FOREIGN KEY (`session_id`) REFERENCES `sessions`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `usage_samples_session_at` ON `usage_samples` (`session_id`,`at`);--> statement-breakpoint
CREATE INDEX `usage_samples_user_idx` ON `usage_samples` (`user_id`);--> statement-breakpoint
CREATE INDEX `usage_samples_at_idx` ON `usage_samples` (`at`);
CREATE TABLE `usage_hourly` (
	`session_id` text NOT NULL,
	`user_id` text NOT NULL,
	`hour` integer NOT NULL,
	`samples` integer NOT NULL,
	`gpu_count` integer NOT NULL,
	`gpu_utilization_mean_percent` real,
	`gpu_utilization_samples` integer NOT NULL,
	`gpu_utilization_max_percent` real,
	`gpu_memory_used_max_mb` integer,
	`gpu_memory_total_mb` integer,
	`gpus` text,
	`gpu_utilization_bins` text NOT NULL,
	`cpu_mean_percent` real,
	`cpu_max_percent` real,
	`memory_used_max_bytes` integer,
	PRIMARY KEY(`session_id`, `hour`),
	FOREIGN KEY (`session_id`) REFERENCES `sessions`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `usage_hourly_user_hour_idx` ON `usage_hourly` (`user_id`,`hour`);--> statement-breakpoint
CREATE INDEX `usage_hourly_hour_idx` ON `usage_hourly` (`hour`);
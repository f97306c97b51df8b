CREATE TABLE `access_log_objects` (
	`user_id` text NOT NULL,
	`day` integer NOT NULL,
	`key` text NOT NULL,
	PRIMARY KEY(`user_id`, `key`)
);
--> statement-breakpoint
CREATE INDEX `access_log_objects_day_idx` ON `access_log_objects` (`day`);--> statement-breakpoint
DROP TABLE `access_logs`;
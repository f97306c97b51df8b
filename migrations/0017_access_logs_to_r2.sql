CREATE TABLE `access_log_objects` (
	`user_id` text NOT NULL,
	`day` integer NOT NULL,
	`key` text NOT NULL,
	PRIMARY KEY(`user_id`, `key`)
);
--> statement-breakpoint
CREATE INDEX `access_log_objects_day_idx` ON `access_log_objects` (`day`);--> statement-breakpoint
CREATE TABLE `access_log_slots` (
	`day` integer NOT NULL,
	`bucket` text NOT NULL,
	`hour` integer NOT NULL,
	PRIMARY KEY(`day`, `bucket`, `hour`)
);
--> statement-breakpoint
DROP TABLE `access_logs`;
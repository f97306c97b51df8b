CREATE TABLE `policy_notices` (
	`user_id` text NOT NULL,
	`version` text NOT NULL,
	`claimed_at` integer NOT NULL,
	`sent_at` integer,
	PRIMARY KEY(`user_id`, `version`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `policy_notices_version_idx` ON `policy_notices` (`version`,`sent_at`);--> statement-breakpoint
CREATE TABLE `policy_versions` (
	`version` text PRIMARY KEY NOT NULL,
	`published_at` integer NOT NULL,
	`material` integer NOT NULL,
	`summary` text NOT NULL,
	`text` text NOT NULL
);
--> statement-breakpoint
ALTER TABLE `users` ADD `policy_accepted_at` integer;
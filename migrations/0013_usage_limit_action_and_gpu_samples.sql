ALTER TABLE `users` ADD `usage_limit_action` text DEFAULT 'notify' NOT NULL;--> statement-breakpoint
ALTER TABLE `usage_samples` ADD `gpus` text;
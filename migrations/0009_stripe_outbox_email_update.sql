ALTER TABLE `deletion_outbox` ADD `operation` text DEFAULT 'delete' NOT NULL;--> statement-breakpoint
ALTER TABLE `deletion_outbox` ADD `email` text;
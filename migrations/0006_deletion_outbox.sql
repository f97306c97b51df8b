CREATE TABLE `checkout_claims` (
	`user_id` text PRIMARY KEY NOT NULL,
	`plan_id` text NOT NULL,
	`claimed_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `checkout_claims_expires_at_idx` ON `checkout_claims` (`expires_at`);--> statement-breakpoint
CREATE TABLE `deletion_outbox` (
	`user_id` text PRIMARY KEY NOT NULL,
	`stripe_customer_id` text NOT NULL,
	`stripe_subscription_id` text,
	`subscription_canceled_at` integer,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`last_error_code` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `deletion_outbox_next_attempt_idx` ON `deletion_outbox` (`next_attempt_at`);--> statement-breakpoint
ALTER TABLE `billing_accounts` ADD `closed_at` integer;--> statement-breakpoint
CREATE INDEX `billing_accounts_closed_at_idx` ON `billing_accounts` (`closed_at`);--> statement-breakpoint
CREATE INDEX `access_logs_request_idx` ON `access_logs` (`request_id`);
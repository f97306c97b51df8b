CREATE TABLE `database_stats` (
	`day` integer PRIMARY KEY NOT NULL,
	`measured_at` integer NOT NULL,
	`size_bytes` integer NOT NULL,
	`table_rows` text NOT NULL,
	`warned_at` integer
);

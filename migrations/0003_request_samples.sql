CREATE TABLE `request_samples` (
	`id` integer PRIMARY KEY NOT NULL,
	`model_name` text NOT NULL,
	`version` integer NOT NULL,
	`arm` text NOT NULL,
	`request_id` text NOT NULL,
	`row_index` integer NOT NULL,
	`features` text NOT NULL,
	`probability` real NOT NULL,
	`prediction` integer NOT NULL,
	`risk_tier` text NOT NULL,
	`latency_ms` integer NOT NULL,
	`created_at` text NOT NULL,
	`window` text NOT NULL,
	`sample_key` real NOT NULL
);
--> statement-breakpoint
CREATE INDEX `request_samples_model_version_created` ON `request_samples` (`model_name`,`version`,`created_at`);--> statement-breakpoint
CREATE INDEX `request_samples_window_key` ON `request_samples` (`window`,`model_name`,`version`,`sample_key`);
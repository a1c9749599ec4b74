CREATE TABLE `drift_reports` (
	`model_name` text NOT NULL,
	`version` integer NOT NULL,
	`window_start` text NOT NULL,
	`window_end` text NOT NULL,
	`status` text NOT NULL,
	`report` text NOT NULL,
	`alert` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	PRIMARY KEY(`model_name`, `version`, `window_start`)
);
--> statement-breakpoint
CREATE INDEX `drift_reports_model_window` ON `drift_reports` (`model_name`,`window_start`);--> statement-breakpoint
CREATE TABLE `metric_buckets` (
	`minute` text NOT NULL,
	`name` text NOT NULL,
	`labels` text NOT NULL,
	`value` real NOT NULL,
	PRIMARY KEY(`minute`, `name`, `labels`)
);
--> statement-breakpoint
CREATE TABLE `prediction_labels` (
	`request_id` text NOT NULL,
	`row_index` integer NOT NULL,
	`model_name` text NOT NULL,
	`version` integer NOT NULL,
	`label` integer NOT NULL,
	`probability` real NOT NULL,
	`predicted_at` text NOT NULL,
	`observed_at` text,
	`received_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`joined_by` text NOT NULL,
	PRIMARY KEY(`request_id`, `row_index`)
);
--> statement-breakpoint
CREATE INDEX `prediction_labels_model_version_predicted` ON `prediction_labels` (`model_name`,`version`,`predicted_at`);--> statement-breakpoint
CREATE TABLE `shadow_pairs` (
	`id` integer PRIMARY KEY NOT NULL,
	`model_name` text NOT NULL,
	`request_id` text NOT NULL,
	`row_index` integer NOT NULL,
	`primary_version` integer NOT NULL,
	`shadow_version` integer NOT NULL,
	`primary_probability` real NOT NULL,
	`shadow_probability` real NOT NULL,
	`primary_prediction` integer NOT NULL,
	`shadow_prediction` integer NOT NULL,
	`agree` integer NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `shadow_pairs_model_shadow_created` ON `shadow_pairs` (`model_name`,`shadow_version`,`created_at`);--> statement-breakpoint
CREATE INDEX `shadow_pairs_created` ON `shadow_pairs` (`created_at`);--> statement-breakpoint
CREATE TABLE `traffic_policies` (
	`model_name` text PRIMARY KEY NOT NULL,
	`canary_percent` real DEFAULT 0 NOT NULL,
	`shadow_sample_rate` real DEFAULT 0 NOT NULL,
	`entity_field` text,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_by` text NOT NULL,
	`reason` text DEFAULT '' NOT NULL,
	FOREIGN KEY (`model_name`) REFERENCES `models`(`name`) ON UPDATE no action ON DELETE no action
);

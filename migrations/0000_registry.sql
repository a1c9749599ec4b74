CREATE TABLE `alias_history` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`model_name` text NOT NULL,
	`alias` text NOT NULL,
	`from_version` integer,
	`to_version` integer,
	`changed_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`changed_by` text NOT NULL,
	`reason` text DEFAULT '' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `alias_history_model_alias` ON `alias_history` (`model_name`,`alias`,`id`);--> statement-breakpoint
CREATE TABLE `aliases` (
	`model_name` text NOT NULL,
	`alias` text NOT NULL,
	`version` integer NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	PRIMARY KEY(`model_name`, `alias`),
	FOREIGN KEY (`model_name`) REFERENCES `models`(`name`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`model_name`,`version`) REFERENCES `model_versions`(`model_name`,`version`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `model_versions` (
	`model_name` text NOT NULL,
	`version` integer NOT NULL,
	`r2_key` text NOT NULL,
	`sha256` text NOT NULL,
	`size_bytes` integer NOT NULL,
	`manifest` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`source` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`created_by` text NOT NULL,
	PRIMARY KEY(`model_name`, `version`),
	FOREIGN KEY (`model_name`) REFERENCES `models`(`name`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `models` (
	`name` text PRIMARY KEY NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);

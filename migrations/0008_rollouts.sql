CREATE TABLE `rollouts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`model_name` text NOT NULL,
	`version` integer NOT NULL,
	`primary_version` integer NOT NULL,
	`steps` text NOT NULL,
	`step_minutes` integer NOT NULL,
	`min_requests` integer NOT NULL,
	`checks` text NOT NULL,
	`status` text NOT NULL,
	`step_index` integer DEFAULT 0 NOT NULL,
	`step_started_at` text NOT NULL,
	`started_at` text NOT NULL,
	`started_by` text NOT NULL,
	`reason` text NOT NULL,
	`ended_at` text,
	`end_reason` text,
	`evidence` text DEFAULT '[]' NOT NULL,
	`last_evaluation` text,
	`last_evaluated_minute` text,
	FOREIGN KEY (`model_name`) REFERENCES `models`(`name`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `rollouts_one_active` ON `rollouts` (`model_name`) WHERE status = 'active';--> statement-breakpoint
CREATE INDEX `rollouts_model_started` ON `rollouts` (`model_name`,`id`);
ALTER TABLE `model_versions` ADD `status_changed_at` text;--> statement-breakpoint
ALTER TABLE `model_versions` ADD `status_changed_by` text;--> statement-breakpoint
ALTER TABLE `model_versions` ADD `status_reason` text;
DROP INDEX `request_samples_request`;--> statement-breakpoint
ALTER TABLE `request_samples` ADD `client_request_id` text;--> statement-breakpoint
/* Rows stored while the client's x-request-id was the key may share one: they become ambiguous rows under a unique id (nothing a label could join to safely), keeping their count. */
UPDATE `request_samples` SET `client_request_id` = `request_id`, `request_id` = `request_id` || '~' || `id` WHERE (`request_id`, `row_index`, `arm`) IN (SELECT `request_id`, `row_index`, `arm` FROM `request_samples` GROUP BY 1, 2, 3 HAVING count(*) > 1);--> statement-breakpoint
UPDATE `shadow_pairs` SET `request_id` = `request_id` || '~' || `id` WHERE (`request_id`, `row_index`, `shadow_version`) IN (SELECT `request_id`, `row_index`, `shadow_version` FROM `shadow_pairs` GROUP BY 1, 2, 3 HAVING count(*) > 1);--> statement-breakpoint
CREATE UNIQUE INDEX `request_samples_request_row_arm` ON `request_samples` (`request_id`,`row_index`,`arm`);--> statement-breakpoint
CREATE INDEX `request_samples_model_client` ON `request_samples` (`model_name`,`client_request_id`) WHERE client_request_id IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `shadow_pairs_request_row_shadow` ON `shadow_pairs` (`request_id`,`row_index`,`shadow_version`);
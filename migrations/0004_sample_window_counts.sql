CREATE TABLE `sample_window_counts` (
	`window` text NOT NULL,
	`model_name` text NOT NULL,
	`version` integer NOT NULL,
	`rows` integer NOT NULL,
	PRIMARY KEY(`window`, `model_name`, `version`)
);

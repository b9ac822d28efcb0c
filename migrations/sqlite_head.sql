-- An empty tracker database on SQLite, as the migrations up to 0012 make it.
-- Generated: after adding a migration, run `python -m tracker.schema_snapshot`.
-- revision: 0012
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
INSERT INTO "alembic_version" VALUES('0012');
CREATE TABLE "apitoken" (
	id INTEGER NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	prefix VARCHAR(16) NOT NULL, 
	token_hash VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	last_used_at DATETIME, 
	revoked_at DATETIME, 
	scopes JSON DEFAULT '[]' NOT NULL, 
	suites JSON DEFAULT '[]' NOT NULL, 
	branches JSON DEFAULT '[]' NOT NULL, 
	owner_id INTEGER, 
	created_by VARCHAR(200) DEFAULT '' NOT NULL, 
	migrated BOOLEAN DEFAULT 0 NOT NULL, 
	expires_at DATETIME, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_apitoken_owner_id_useraccount FOREIGN KEY(owner_id) REFERENCES useraccount (id), 
	UNIQUE (token_hash)
);
CREATE TABLE applicabilitydecision (
	id INTEGER NOT NULL, 
	obligation_id VARCHAR(80) NOT NULL, 
	not_applicable BOOLEAN NOT NULL, 
	justification TEXT NOT NULL, 
	decided_by VARCHAR(200) NOT NULL, 
	decided_at DATETIME NOT NULL, decided_role VARCHAR(16), basis_proposal VARCHAR(24), basis_fingerprint VARCHAR(64), 
	PRIMARY KEY (id), 
	FOREIGN KEY(obligation_id) REFERENCES obligation (id)
);
CREATE TABLE applicabilityproposal (
	obligation_id VARCHAR(80) NOT NULL, 
	proposal VARCHAR(24) NOT NULL, 
	reasons JSON NOT NULL, 
	activities JSON NOT NULL, 
	fingerprint VARCHAR(64) NOT NULL, 
	computed_at DATETIME NOT NULL, 
	PRIMARY KEY (obligation_id), 
	FOREIGN KEY(obligation_id) REFERENCES obligation (id)
);
CREATE TABLE auditchainhead (
	id INTEGER NOT NULL, 
	seq INTEGER NOT NULL, 
	hash VARCHAR(64) NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "auditchainhead" VALUES(1,0,'0000000000000000000000000000000000000000000000000000000000000000');
CREATE TABLE "auditevent" (
	id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	actor VARCHAR(200) NOT NULL, 
	action VARCHAR(64) NOT NULL, 
	entity_type VARCHAR(32) NOT NULL, 
	entity_id VARCHAR(1000) NOT NULL, 
	"before" JSON, 
	"after" JSON, 
	seq INTEGER NOT NULL, 
	actor_ref VARCHAR(64) DEFAULT 'system' NOT NULL, 
	actor_role VARCHAR(16), 
	prev_hash VARCHAR(64) NOT NULL, 
	hash VARCHAR(64) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_auditevent_seq UNIQUE (seq)
);
CREATE TABLE datageneration (
	id INTEGER NOT NULL, 
	value BIGINT NOT NULL, 
	token VARCHAR(32) NOT NULL, 
	changed_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "datageneration" VALUES(1,0,'','1970-01-01 00:00:00');
CREATE TABLE datagenerationchange (
	value BIGINT NOT NULL, 
	token VARCHAR(32) NOT NULL, 
	obligation_ids TEXT, 
	PRIMARY KEY (value)
);
CREATE TABLE datasystem (
	id VARCHAR(80) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	owner VARCHAR(200), 
	jira_project VARCHAR(16), 
	spec JSON NOT NULL, 
	fingerprint VARCHAR(64) NOT NULL, 
	source_file VARCHAR(300) NOT NULL, 
	source_line INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	retired_at DATETIME, 
	PRIMARY KEY (id)
);
CREATE TABLE dpia (
	id VARCHAR(80) NOT NULL, 
	activity_id VARCHAR(80) NOT NULL, 
	title VARCHAR(300) NOT NULL, 
	owner VARCHAR(200), 
	review_every_days INTEGER, 
	spec JSON NOT NULL, 
	fingerprint VARCHAR(64) NOT NULL, 
	version INTEGER NOT NULL, 
	source_file VARCHAR(300) NOT NULL, 
	source_line INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	retired_at DATETIME, 
	PRIMARY KEY (id)
);
CREATE TABLE dpiasignoff (
	id INTEGER NOT NULL, 
	dpia_id VARCHAR(80) NOT NULL, 
	fingerprint VARCHAR(64) NOT NULL, 
	version INTEGER NOT NULL, 
	signed_by VARCHAR(200) NOT NULL, 
	signed_role VARCHAR(16), 
	signed_at DATETIME NOT NULL, 
	next_review_on DATE NOT NULL, 
	note TEXT, 
	PRIMARY KEY (id)
);
CREATE TABLE epicrequest (
	id INTEGER NOT NULL, 
	obligation_id VARCHAR(80) NOT NULL, 
	project_key VARCHAR(32) NOT NULL, 
	work_item_key VARCHAR(64), 
	created_by VARCHAR(200) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(obligation_id) REFERENCES obligation (id), 
	UNIQUE (obligation_id, project_key)
);
CREATE TABLE instrument (
	id VARCHAR(32) NOT NULL, 
	title VARCHAR(300) NOT NULL, 
	short_name VARCHAR(64) NOT NULL, 
	jurisdiction VARCHAR(64) NOT NULL, 
	official_url VARCHAR(500) NOT NULL, 
	effective_date DATE, 
	attribution VARCHAR(500), 
	source_file VARCHAR(300) NOT NULL, 
	retired_at DATETIME, 
	PRIMARY KEY (id)
);
CREATE TABLE jiraversion (
	id VARCHAR(32) NOT NULL, 
	project_key VARCHAR(32) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	released BOOLEAN NOT NULL, 
	archived BOOLEAN NOT NULL, 
	release_date DATE, 
	PRIMARY KEY (id)
);
CREATE TABLE job (
	id INTEGER NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	params JSON NOT NULL, 
	progress_text VARCHAR(300), 
	progress_done INTEGER, 
	progress_total INTEGER, 
	result JSON, 
	failure VARCHAR(1000), 
	actor VARCHAR(200) NOT NULL, 
	actor_ref VARCHAR(64) NOT NULL, 
	request_id VARCHAR(64), 
	attempts INTEGER NOT NULL, 
	task_id VARCHAR(64), 
	schedule_key VARCHAR(100), 
	created_at DATETIME NOT NULL, 
	started_at DATETIME, 
	finished_at DATETIME, 
	heartbeat_at DATETIME, 
	worker VARCHAR(300), 
	worker_host VARCHAR(200), 
	worker_pid INTEGER, 
	PRIMARY KEY (id), 
	UNIQUE (schedule_key)
);
CREATE TABLE jobupload (
	job_id INTEGER NOT NULL, 
	part INTEGER NOT NULL, 
	data BLOB NOT NULL, 
	PRIMARY KEY (job_id, part), 
	FOREIGN KEY(job_id) REFERENCES job (id)
);
CREATE TABLE loginsession (
	id VARCHAR(64) NOT NULL, 
	user_id INTEGER NOT NULL, 
	method VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	last_seen_at DATETIME NOT NULL, 
	ended_at DATETIME, 
	PRIMARY KEY (id), 
	FOREIGN KEY(user_id) REFERENCES useraccount (id)
);
CREATE TABLE obligation (
	id VARCHAR(80) NOT NULL, 
	instrument_id VARCHAR(32) NOT NULL, 
	parent_id VARCHAR(80), 
	citation VARCHAR(200) NOT NULL, 
	title VARCHAR(300) NOT NULL, 
	summary TEXT NOT NULL, 
	official_url VARCHAR(500) NOT NULL, 
	assessable BOOLEAN NOT NULL, 
	severity VARCHAR(16), 
	lifecycle_status VARCHAR(16) NOT NULL, 
	effective_date DATE, 
	freshness_days INTEGER NOT NULL, 
	applicability JSON NOT NULL, 
	parameters JSON NOT NULL, 
	evidence JSON NOT NULL, 
	tags JSON NOT NULL, 
	version INTEGER NOT NULL, 
	fingerprint VARCHAR(64) NOT NULL, 
	sort_key VARCHAR(200) NOT NULL, 
	source_file VARCHAR(300) NOT NULL, 
	source_line INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	retired_at DATETIME, owner VARCHAR(200), review_every_days INTEGER, 
	PRIMARY KEY (id), 
	FOREIGN KEY(instrument_id) REFERENCES instrument (id)
);
CREATE TABLE obligationmapping (
	id INTEGER NOT NULL, 
	source_id VARCHAR(80) NOT NULL, 
	target_id VARCHAR(80) NOT NULL, 
	relationship VARCHAR(32) NOT NULL, 
	notes TEXT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(source_id) REFERENCES obligation (id), 
	FOREIGN KEY(target_id) REFERENCES obligation (id), 
	UNIQUE (source_id, target_id)
);
CREATE TABLE obligationversion (
	id INTEGER NOT NULL, 
	obligation_id VARCHAR(80) NOT NULL, 
	version INTEGER NOT NULL, 
	fingerprint VARCHAR(64) NOT NULL, 
	content JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(obligation_id) REFERENCES obligation (id), 
	UNIQUE (obligation_id, version)
);
CREATE TABLE processingactivity (
	id VARCHAR(80) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	owner VARCHAR(200), 
	status VARCHAR(16) NOT NULL, 
	dpia_required BOOLEAN NOT NULL, 
	review_every_days INTEGER, 
	spec JSON NOT NULL, 
	fingerprint VARCHAR(64) NOT NULL, 
	version INTEGER NOT NULL, 
	source_file VARCHAR(300) NOT NULL, 
	source_line INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	retired_at DATETIME, 
	PRIMARY KEY (id)
);
CREATE TABLE readinessrecord (
	release VARCHAR(200) NOT NULL, 
	day DATE NOT NULL, 
	blocking INTEGER NOT NULL, 
	total INTEGER NOT NULL, 
	recorded_at DATETIME NOT NULL, 
	PRIMARY KEY (release, day)
);
CREATE TABLE release (
	name VARCHAR(200) NOT NULL, 
	release_date DATE, 
	created_by VARCHAR(200) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (name)
);
CREATE TABLE releaseexception (
	id INTEGER NOT NULL, 
	release VARCHAR(200) NOT NULL, 
	obligation_id VARCHAR(80) NOT NULL, 
	justification TEXT NOT NULL, 
	compensating_control TEXT NOT NULL, 
	risk_owner VARCHAR(200) NOT NULL, 
	expires_on DATE NOT NULL, 
	requested_by VARCHAR(200) NOT NULL, 
	requested_by_ref VARCHAR(64) NOT NULL, 
	requested_at DATETIME NOT NULL, 
	approved_by VARCHAR(200), 
	approved_by_ref VARCHAR(64), 
	approved_role VARCHAR(16), 
	approved_at DATETIME, 
	withdrawn_at DATETIME, 
	PRIMARY KEY (id), 
	FOREIGN KEY(obligation_id) REFERENCES obligation (id)
);
CREATE TABLE releasesnapshot (
	id INTEGER NOT NULL, 
	release VARCHAR(200) NOT NULL, 
	hash VARCHAR(64) NOT NULL, 
	previous_hash VARCHAR(64), 
	document TEXT NOT NULL, 
	ready BOOLEAN NOT NULL, 
	frozen_by VARCHAR(200) NOT NULL, 
	frozen_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (hash)
);
CREATE TABLE remotelinkstate (
	id INTEGER NOT NULL, 
	work_item_key VARCHAR(64) NOT NULL, 
	global_id VARCHAR(255) NOT NULL, 
	obligation_id VARCHAR(80) NOT NULL, 
	title VARCHAR(500) NOT NULL, 
	url VARCHAR(500) NOT NULL, 
	resolved BOOLEAN NOT NULL, 
	pushed_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (work_item_key, global_id)
);
CREATE TABLE retentionduty (
	obligation_id VARCHAR(80) NOT NULL, 
	data_category VARCHAR(120) NOT NULL, 
	system_id VARCHAR(80) NOT NULL, 
	period VARCHAR(32) NOT NULL, 
	period_days INTEGER NOT NULL, 
	"trigger" VARCHAR(64) NOT NULL, 
	activities JSON NOT NULL, 
	purposes JSON NOT NULL, 
	retired_at DATETIME, 
	PRIMARY KEY (obligation_id), 
	FOREIGN KEY(obligation_id) REFERENCES obligation (id)
);
CREATE TABLE review (
	id INTEGER NOT NULL, 
	campaign_id INTEGER, 
	item_kind VARCHAR(16) NOT NULL, 
	item_id VARCHAR(80) NOT NULL, 
	reviewer VARCHAR(200) NOT NULL, 
	due_on DATE, 
	outcome VARCHAR(16), 
	finding TEXT, 
	reviewed_by VARCHAR(200), 
	reviewed_at DATETIME, 
	work_item_key VARCHAR(64), 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(campaign_id) REFERENCES reviewcampaign (id)
);
CREATE TABLE reviewcampaign (
	id INTEGER NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	due_on DATE NOT NULL, 
	note TEXT, 
	created_by VARCHAR(200) NOT NULL, 
	created_at DATETIME NOT NULL, 
	closed_at DATETIME, 
	PRIMARY KEY (id)
);
CREATE TABLE signoff (
	id INTEGER NOT NULL, 
	release VARCHAR(200) NOT NULL, 
	obligation_id VARCHAR(80) NOT NULL, 
	obligation_version INTEGER NOT NULL, 
	fingerprint VARCHAR(64) NOT NULL, 
	status VARCHAR(32) NOT NULL, 
	statement TEXT NOT NULL, 
	signed_by VARCHAR(200) NOT NULL, 
	signed_by_ref VARCHAR(64) NOT NULL, 
	signed_role VARCHAR(16), 
	signed_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(obligation_id) REFERENCES obligation (id)
);
CREATE TABLE synclock (
	name VARCHAR(64) NOT NULL, 
	holder VARCHAR(200) NOT NULL, 
	acquired_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, host VARCHAR(200), pid INTEGER, 
	PRIMARY KEY (name)
);
CREATE TABLE syncrun (
	id INTEGER NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	status VARCHAR(32) NOT NULL, 
	"full" BOOLEAN NOT NULL, 
	dry_run BOOLEAN NOT NULL, 
	actor VARCHAR(200) NOT NULL, 
	started_at DATETIME NOT NULL, 
	finished_at DATETIME, 
	watermark_from DATETIME, 
	watermark_to DATETIME, 
	pages INTEGER NOT NULL, 
	requests INTEGER NOT NULL, 
	created INTEGER NOT NULL, 
	updated INTEGER NOT NULL, 
	unchanged INTEGER NOT NULL, 
	missing INTEGER NOT NULL, 
	links_added INTEGER NOT NULL, 
	links_removed INTEGER NOT NULL, 
	problems JSON NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE testcase (
	id INTEGER NOT NULL, 
	test_id VARCHAR(1000) NOT NULL, 
	suite VARCHAR(300) NOT NULL, 
	classname TEXT NOT NULL, 
	name TEXT NOT NULL, 
	first_seen_at DATETIME NOT NULL, 
	last_seen_at DATETIME, 
	PRIMARY KEY (id), 
	UNIQUE (test_id)
);
CREATE TABLE testlink (
	id INTEGER NOT NULL, 
	obligation_id VARCHAR(80) NOT NULL, 
	test_case_id INTEGER NOT NULL, 
	origin VARCHAR(16) NOT NULL, 
	reviewed_version INTEGER NOT NULL, 
	reviewed_fingerprint VARCHAR(64) NOT NULL, 
	created_by VARCHAR(200) NOT NULL, 
	created_at DATETIME NOT NULL, 
	reviewed_by VARCHAR(200), 
	reviewed_at DATETIME, 
	removed_by VARCHAR(200), 
	removed_at DATETIME, 
	PRIMARY KEY (id), 
	FOREIGN KEY(obligation_id) REFERENCES obligation (id), 
	FOREIGN KEY(test_case_id) REFERENCES testcase (id)
);
CREATE TABLE testresult (
	id INTEGER NOT NULL, 
	run_id INTEGER NOT NULL, 
	test_case_id INTEGER NOT NULL, 
	outcome VARCHAR(16) NOT NULL, 
	flaky BOOLEAN NOT NULL, 
	duration FLOAT, 
	message TEXT, message_size BIGINT, attempts TEXT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(run_id) REFERENCES testrun (id), 
	FOREIGN KEY(test_case_id) REFERENCES testcase (id)
);
CREATE TABLE "testrun" (
	id INTEGER NOT NULL, 
	suite VARCHAR(300) NOT NULL, 
	"commit" VARCHAR(64), 
	branch VARCHAR(200), 
	release VARCHAR(200), 
	environment VARCHAR(200), 
	source_name VARCHAR(300) NOT NULL, 
	content_hash VARCHAR(64) NOT NULL, 
	uploaded_by VARCHAR(200) NOT NULL, 
	started_at DATETIME NOT NULL, 
	created_at DATETIME NOT NULL, 
	total INTEGER NOT NULL, 
	passed INTEGER NOT NULL, 
	failed INTEGER NOT NULL, 
	errors INTEGER NOT NULL, 
	skipped INTEGER NOT NULL, 
	flaky INTEGER NOT NULL, 
	unknown_ids JSON NOT NULL, 
	invalid_ids JSON NOT NULL, 
	token_id INTEGER, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_testrun_token_id_apitoken FOREIGN KEY(token_id) REFERENCES apitoken (id), 
	UNIQUE (content_hash)
);
CREATE TABLE unknownclaim (
	test_case_id INTEGER NOT NULL, 
	claimed_id VARCHAR(200) NOT NULL, 
	run_id INTEGER NOT NULL, 
	PRIMARY KEY (test_case_id, claimed_id), 
	FOREIGN KEY(run_id) REFERENCES testrun (id), 
	FOREIGN KEY(test_case_id) REFERENCES testcase (id)
);
CREATE TABLE useraccount (
	id INTEGER NOT NULL, 
	email VARCHAR(254) NOT NULL, 
	display_name VARCHAR(200) NOT NULL, 
	role VARCHAR(16) NOT NULL, 
	active BOOLEAN NOT NULL, 
	password_hash VARCHAR(255), 
	sso_subject VARCHAR(255), 
	created_at DATETIME NOT NULL, 
	last_login_at DATETIME, 
	PRIMARY KEY (id), 
	UNIQUE (email), 
	UNIQUE (sso_subject)
);
CREATE TABLE webhookdelivery (
	identifier VARCHAR(200) NOT NULL, 
	event VARCHAR(64) NOT NULL, 
	issue_key VARCHAR(64), 
	received_at DATETIME NOT NULL, outcome VARCHAR(16) DEFAULT 'applied' NOT NULL, 
	PRIMARY KEY (identifier)
);
CREATE TABLE "workitem" (
	"key" VARCHAR(64) NOT NULL, 
	jira_id VARCHAR(32), 
	project_key VARCHAR(32), 
	summary TEXT NOT NULL, 
	issue_type VARCHAR(64) NOT NULL, 
	status VARCHAR(64) NOT NULL, 
	status_category VARCHAR(16) NOT NULL, 
	fix_versions JSON NOT NULL, 
	labels JSON NOT NULL, 
	assignee VARCHAR(200), 
	url VARCHAR(500), 
	updated DATETIME, 
	missing BOOLEAN NOT NULL, 
	synced_at DATETIME, 
	in_scope BOOLEAN DEFAULT 1 NOT NULL, 
	PRIMARY KEY ("key")
);
CREATE TABLE workitemlink (
	id INTEGER NOT NULL, 
	obligation_id VARCHAR(80) NOT NULL, 
	work_item_key VARCHAR(64) NOT NULL, 
	origin VARCHAR(16) NOT NULL, 
	reviewed_version INTEGER NOT NULL, 
	reviewed_fingerprint VARCHAR(64) NOT NULL, 
	created_by VARCHAR(200) NOT NULL, 
	created_at DATETIME NOT NULL, 
	reviewed_by VARCHAR(200), 
	reviewed_at DATETIME, 
	removed_by VARCHAR(200), 
	removed_at DATETIME, 
	PRIMARY KEY (id), 
	FOREIGN KEY(obligation_id) REFERENCES obligation (id), 
	FOREIGN KEY(work_item_key) REFERENCES workitem ("key")
);
CREATE INDEX ix_apitoken_owner_id ON apitoken (owner_id);
CREATE INDEX ix_applicabilitydecision_obligation_id ON applicabilitydecision (obligation_id);
CREATE INDEX ix_auditevent_actor_ref ON auditevent (actor_ref);
CREATE INDEX ix_auditevent_at ON auditevent (at);
CREATE INDEX ix_auditevent_entity ON auditevent (entity_type, entity_id);
CREATE INDEX ix_dpia_activity_id ON dpia (activity_id);
CREATE INDEX ix_dpiasignoff_dpia_id ON dpiasignoff (dpia_id);
CREATE INDEX ix_jiraversion_project_key ON jiraversion (project_key);
CREATE INDEX ix_job_created_at ON job (created_at);
CREATE INDEX ix_job_kind ON job (kind);
CREATE INDEX ix_job_state ON job (state);
CREATE INDEX ix_loginsession_user_id ON loginsession (user_id);
CREATE INDEX ix_obligation_instrument_id ON obligation (instrument_id);
CREATE INDEX ix_obligation_sort_key ON obligation (sort_key);
CREATE INDEX ix_obligationmapping_source_id ON obligationmapping (source_id);
CREATE INDEX ix_obligationmapping_target_id ON obligationmapping (target_id);
CREATE INDEX ix_obligationversion_obligation_id ON obligationversion (obligation_id);
CREATE INDEX ix_releaseexception_release ON releaseexception (release, obligation_id);
CREATE INDEX ix_releasesnapshot_release ON releasesnapshot (release);
CREATE INDEX ix_remotelinkstate_obligation_id ON remotelinkstate (obligation_id);
CREATE INDEX ix_remotelinkstate_work_item_key ON remotelinkstate (work_item_key);
CREATE INDEX ix_retentionduty_data_category ON retentionduty (data_category);
CREATE INDEX ix_retentionduty_system_id ON retentionduty (system_id);
CREATE INDEX ix_review_campaign_id ON review (campaign_id);
CREATE INDEX ix_review_item ON review (item_kind, item_id);
CREATE INDEX ix_signoff_release_obligation ON signoff (release, obligation_id);
CREATE INDEX ix_testlink_pair ON testlink (obligation_id, test_case_id);
CREATE INDEX ix_testlink_test_case_id ON testlink (test_case_id);
CREATE INDEX ix_testresult_case_run ON testresult (test_case_id, run_id);
CREATE INDEX ix_testresult_run_id ON testresult (run_id);
CREATE INDEX ix_testrun_suite ON testrun (suite);
CREATE INDEX ix_unknownclaim_run_id ON unknownclaim (run_id);
CREATE INDEX ix_workitem_project_key ON workitem (project_key);
CREATE INDEX ix_workitemlink_pair ON workitemlink (obligation_id, work_item_key);
CREATE INDEX ix_workitemlink_work_item_key ON workitemlink (work_item_key);

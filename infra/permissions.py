"""What each Lambda function may do, and on which of City Brain's resources.

This table is the whole of the functions' AWS permissions: infra/template.py
turns each entry into statements scoped to the resource's ARN, gives every
function its own role, and adds only two things by itself: writing to the
function's own log group, and consuming the queue that triggers it.

Keys are the Chalice function names (`api_handler` serves every HTTP route);
resources are logical ids of infra/resources.json. A bucket entry may name a
key pattern after the id (`ArchiveBucket/readings/*`); a bare bucket id means
every object in it. Read the stores (the *store modules of each feature under layers/citybrain) when a
function starts calling something new: a missing action is an AccessDenied in
the cloud that moto never shows.
"""

from __future__ import annotations

ACCESS: dict[str, dict[str, list[str]]] = {
    "api_handler": {
        # keys are looked up by hash, departments created and listed
        "DepartmentsTable": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Scan"],
        # registry: register, replace, get, filtered list, batch lookup of a readings batch's devices
        "DevicesTable": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Scan", "dynamodb:BatchGetItem"],
        "ReadingsTable": ["dynamodb:Query"],
        "DeviceStateTable": ["dynamodb:GetItem"],
        "RollupsTable": ["dynamodb:GetItem", "dynamodb:Query"],
        # readings rejected at the edge, and dataset records rejected by a load, are kept with their reason
        "RejectionsTable": ["dynamodb:BatchWriteItem"],
        "UploadsTable": ["dynamodb:GetItem", "dynamodb:PutItem"],
        # the presigned PUT a gateway uploads with is signed by this role
        "UploadsBucket/uploads/*": ["s3:PutObject"],
        "ReadingsQueue": ["sqs:SendMessage"],
        # exchange: every audited change commits in ONE transaction with its audit entry and counters
        # (a transaction needs PutItem/UpdateItem on each table it writes): a dataset, its index entry
        # and generation change together (Put/Update);
        # loads take a lease and a version number (UpdateItem), search reads the index (Query) and a page's metadata
        "DatasetsTable": [
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:Query",
            "dynamodb:BatchGetItem",
        ],
        # records: staged in batches under the load's version after reading the stored rows (visible once
        # the version commits with its audit entry); pulls page through the shards
        "RecordsTable": ["dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:Query"],
        # a decision moves the request and issues the grant in one transaction; inboxes query the indexes
        "AccessRequestsTable": [
            "dynamodb:PutItem",
            "dynamodb:GetItem",
            "dynamodb:UpdateItem",
            "dynamodb:Query",
            "dynamodb:Scan",
        ],
        "GrantsTable": [
            "dynamodb:PutItem",
            "dynamodb:GetItem",
            "dynamodb:UpdateItem",
            "dynamodb:Query",
            "dynamodb:Scan",
        ],
        # the audit chain: conditional Put of the next entry (alone, or in the transaction of its action),
        # Query for the head, the views and verify (never Update/Delete)
        "AuditTable": ["dynamodb:PutItem", "dynamodb:Query"],
        "ExchangeStatsTable": ["dynamodb:UpdateItem", "dynamodb:Query"],
        # alerts: listed through their indexes, read by id; acknowledge/resolve write the alert, its
        # (device, rule) slot and the pending notification in one transaction, cleared once published
        "AlertsTable": [
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:DeleteItem",
            "dynamodb:ConditionCheckItem",
        ],
        "AlertsTopic": ["sns:Publish"],
        # reports asked for (Put, Delete when queueing failed), read and listed (Query of requested-index);
        # the presigned links to their artifacts are signed by this role
        "ReportsTable": ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:Query"],
        "ReportsQueue": ["sqs:SendMessage"],
        "ReportsBucket/reports/*": ["s3:GetObject"],
        # the risk registry: registered (conditional Put), replaced at a version, read, listed by a filtered scan
        "RiskPointsTable": ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Scan"],
        # incidents read and listed (opened-index); closed by people (a transaction's Put) and announced
        "IncidentsTable": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"],
        "SafetyTopic": ["sns:Publish"],
        # cases: reported (conditional Put), moved at a version (Put), read, listed (reported-index); the
        # big-safety view reads the open ones (open-index) and those reported in its window (Query)
        "CasesTable": ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query"],
        # the cases' photos: this role signs their presigned PUTs (report, feedback) and GET links, and a
        # feedback HEADs the photos it shows (GetObject; ListBucket so a missing one is 404, not 403).
        # Their own bucket, not UploadsBucket: that one's every new object is announced to the uploads
        # queue and expires after 90 days, while a photo is part of the case file, kept with the case.
        "CasePhotosBucket/photos/*": ["s3:PutObject", "s3:GetObject"],
        "CasePhotosBucket": ["s3:ListBucket"],
        # the audit chain's anchors: the admin anchors the head now (a conditional Put of a new key; the
        # bucket's Object Lock keeps every version), lists them and reads them for verify; the incremental
        # verification's checkpoint and the full re-verifications' records; the queue of those jobs
        "AnchorsBucket/anchors/*": ["s3:PutObject", "s3:GetObject"],
        "AnchorsBucket": ["s3:ListBucket"],
        "AuditVerificationsTable": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
        "AuditVerificationsQueue": ["sqs:SendMessage"],
    },
    "process_readings": {
        # one transaction writes the readings, their rollups and the device's latest state
        "ReadingsTable": ["dynamodb:PutItem"],
        "RollupsTable": ["dynamodb:BatchGetItem", "dynamodb:PutItem"],
        "DeviceStateTable": ["dynamodb:BatchGetItem", "dynamodb:PutItem"],
        "RejectionsTable": ["dynamodb:BatchWriteItem"],
        "ArchiveBucket/readings/*": ["s3:PutObject"],
        # the rules' events: the active alerts' slots are read (BatchGetItem, GetItem after a conflict);
        # alert, slot and pending notification move in one transaction (Put, Delete, ConditionCheck)
        "AlertsTable": [
            "dynamodb:BatchGetItem",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:DeleteItem",
            "dynamodb:ConditionCheckItem",
        ],
        "AlertsTopic": ["sns:Publish"],
    },
    "process_uploads": {
        "UploadsBucket/uploads/*": ["s3:GetObject"],
        # without ListBucket S3 answers 403 instead of 404 for an object deleted before it was read
        "UploadsBucket": ["s3:ListBucket"],
        "UploadsTable": ["dynamodb:GetItem", "dynamodb:UpdateItem"],
        # rows are validated against the registry, as at the HTTP edge
        "DevicesTable": ["dynamodb:BatchGetItem"],
        # a file read again from scratch first drops what an interrupted attempt recorded
        "RejectionsTable": ["dynamodb:BatchWriteItem", "dynamodb:Query"],
        "ReadingsQueue": ["sqs:SendMessage"],
        # once per object content (Powertools idempotency)
        "IdempotencyTable": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
        # a file loaded into a dataset: its metadata, the load lease taken, renewed and released with the
        # version (UpdateItem, and a transaction of Put + Update); the records upserted as by the records API
        "DatasetsTable": ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem"],
        "RecordsTable": ["dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"],
        # the load's version commits in one transaction with its audit entry (conditional Put of the next
        # entry, Query for the head) and the counters (UpdateItem)
        "AuditTable": ["dynamodb:PutItem", "dynamodb:Query"],
        "ExchangeStatsTable": ["dynamodb:UpdateItem"],
    },
    "check_offline_devices": {
        # every device and its latest state, read in full every 5 minutes
        "DevicesTable": ["dynamodb:Scan"],
        # the rule state of a device found silent notes its open offline alert (versioned UpdateItem)
        "DeviceStateTable": ["dynamodb:Scan", "dynamodb:GetItem", "dynamodb:UpdateItem"],
        # readings accepted but not stored yet: silence is then measured at the newest stored
        "ReadingsQueue": ["sqs:GetQueueAttributes"],
        "AlertsTable": [
            "dynamodb:BatchGetItem",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:DeleteItem",
            "dynamodb:ConditionCheckItem",
        ],
        "AlertsTopic": ["sns:Publish"],
    },
    # a report reads devices x hours of rollups, the alerts of its period and the exchange statistics,
    # and writes its three artifacts; its record moves queued -> running -> done or failed
    "make_report": {
        "ReportsTable": ["dynamodb:GetItem", "dynamodb:UpdateItem"],
        "DevicesTable": ["dynamodb:Scan"],
        "RollupsTable": ["dynamodb:BatchGetItem"],
        "AlertsTable": ["dynamodb:Query"],
        "ExchangeStatsTable": ["dynamodb:Query"],
        "ReportsBucket/reports/*": ["s3:PutObject"],
    },
    # the schedules record the period's report once (conditional Put) and queue it
    "hourly_report": {
        "ReportsTable": ["dynamodb:PutItem", "dynamodb:DeleteItem"],
        "ReportsQueue": ["sqs:SendMessage"],
    },
    "daily_report": {
        "ReportsTable": ["dynamodb:PutItem", "dynamodb:DeleteItem"],
        "ReportsQueue": ["sqs:SendMessage"],
    },
    # every 5 minutes: the chain's head (Query) anchored as a new object in the Object Lock bucket;
    # it may only add anchors (no delete, and the lock keeps every version for the retention)
    "anchor_audit_chain": {
        "AuditTable": ["dynamodb:Query"],
        "AnchorsBucket/anchors/*": ["s3:PutObject", "s3:GetObject"],
        "AnchorsBucket": ["s3:ListBucket"],
        # the hint of the newest anchor's seq (where listing starts; the bucket stays the truth)
        "AuditVerificationsTable": ["dynamodb:GetItem", "dynamodb:PutItem"],
    },
    # a full re-verification walks the whole chain against every anchor, a slice per message, saving its
    # progress in its record and queueing the next slice
    "verify_audit_chain": {
        "AuditTable": ["dynamodb:Query"],
        "AnchorsBucket/anchors/*": ["s3:GetObject"],
        "AnchorsBucket": ["s3:ListBucket"],
        "AuditVerificationsTable": ["dynamodb:GetItem", "dynamodb:PutItem"],
        "AuditVerificationsQueue": ["sqs:SendMessage"],
    },
    # fusion: an alert's device and the risk points bound to it; the incident and its slots read
    # (BatchGetItem, GetItem) and moved in one transaction (Put); new incidents and grades announced
    "fuse_alerts": {
        "DevicesTable": ["dynamodb:BatchGetItem"],
        "RiskPointsTable": ["dynamodb:Scan"],
        "IncidentsTable": ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem"],
        "SafetyTopic": ["sns:Publish"],
        # cases: reported (conditional Put), moved at a version (Put), read, listed and evaluated (Query)
        "CasesTable": ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query"],
    },
    # incidents whose grade or closing was not announced yet (the opened-index), announced and marked
    "announce_incidents": {
        "IncidentsTable": ["dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem"],
        "SafetyTopic": ["sns:Publish"],
    },
    # the open cases (sparse open-index) checked against their deadlines; overdue steps marked at a
    # version and announced for supervision
    "check_overdue_cases": {
        "CasesTable": ["dynamodb:Query", "dynamodb:PutItem"],
        "SupervisionTopic": ["sns:Publish"],
    },
    "retry_alert_notifications": {
        # the outbox-index lists notifications still waiting; each is deleted once published
        "AlertsTable": ["dynamodb:Query", "dynamodb:DeleteItem"],
        "AlertsTopic": ["sns:Publish"],
    },
}

# What an SQS trigger needs from the role (Lambda's poller, not our code, makes these calls).
QUEUE_CONSUMER = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]

LOG_WRITER = ["logs:CreateLogStream", "logs:PutLogEvents"]

-- Scale-out: a running Graph or manual step is owned by the process running it. The owner renews its lease while
-- the action runs, and another process settles the step (lost / failed) only once the lease has expired (its owner died).
-- lease_attempt ties the lease to one attempt (a retried step is not covered by the previous attempt's owner).
ALTER TABLE steps ADD COLUMN owner_id text;
ALTER TABLE steps ADD COLUMN lease_until timestamptz;
ALTER TABLE steps ADD COLUMN lease_attempt integer

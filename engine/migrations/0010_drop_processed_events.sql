-- processed_events recorded handled platform events before the inbound-events journal (0006)
-- took over; nothing has written it since, and its last rows are long past any platform's retries.
DROP TABLE IF EXISTS processed_events;

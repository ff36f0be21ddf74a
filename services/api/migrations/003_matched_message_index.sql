-- Report cases take the text of the delivered message the decider matched, which may be read after the report.
CREATE INDEX case_reports_matched ON case_reports (matched_message_id) WHERE matched_message_id IS NOT NULL;

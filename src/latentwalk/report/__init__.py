"""The report: the demo trains or reuses the post's models and builds one ReportData (report_data); html renders it."""

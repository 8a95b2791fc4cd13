"""The report: the demo trains or reuses the post's models and builds one ReportData (contract); html renders it."""

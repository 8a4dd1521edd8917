"""Uploads: presigned PUTs into the uploads bucket, the bucket's notifications,
and the file read by the reader of its target (readings or a dataset)."""

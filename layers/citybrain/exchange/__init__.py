"""Data exchange between departments (数据共享交换): the catalog, records and
their versions, access requests and grants, masked pulls, the tamper-evident
audit chain and the exchange statistics. Stores are the *_store modules."""

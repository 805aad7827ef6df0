"""Real services that tests of several tiers start (etcd members, ...): one home each."""

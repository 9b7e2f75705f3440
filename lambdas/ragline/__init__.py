"""Ragline core: everything the Lambdas do, free of handler and AWS-event plumbing."""

"""Background jobs: the queue (Huey), the job records the pages show, one thin task per use case."""

"""The smoke test of a deployed stage: one script (``script.run_smoke``) against a ``SmokeTarget``, which is a
throwaway stage on a real AWS account (``aws.AwsTarget``) or the local stack (``local.LocalTarget``)."""

"""SageMaker jobs: what train_model asks SageMaker to run, and the entrypoints that run inside the job's container
(the ML image of the container functions)."""

"""What is built on the engine: the table inventory, lint warnings,
explanations, PostfixAdmin support and mail log lines."""

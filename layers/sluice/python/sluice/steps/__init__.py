"""The lifecycle steps each handler runs: pure orchestration over injected AWS access."""

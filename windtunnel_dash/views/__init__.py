"""UI pieces bound to the pages' states (as Reflex's dashboard template keeps views/ beside components/)."""

"""Starting point; replaced by the page's developer."""
import reflex as rx


class RunListState(rx.State):
    @rx.event
    def follow(self):
        pass

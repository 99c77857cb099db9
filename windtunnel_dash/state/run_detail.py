"""Starting point; replaced by the page's developer."""
import reflex as rx


class RunDetailState(rx.State):
    @rx.event
    def follow(self):
        pass

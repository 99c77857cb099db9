"""Starting point; replaced by the page's developer."""
import reflex as rx


class InstanceState(rx.State):
    @rx.event
    def load(self):
        pass

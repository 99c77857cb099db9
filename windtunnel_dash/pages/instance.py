"""Starting point; replaced by the page's developer."""
import reflex as rx


def instance_page() -> rx.Component:
    return rx.heading("instance")

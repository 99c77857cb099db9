"""Starting point; replaced by the page's developer."""
import reflex as rx


def run_list_page() -> rx.Component:
    return rx.heading("Runs")

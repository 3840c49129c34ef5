"""The web edge: the JSON API, the Gradio page, the staff view and the service that runs them."""

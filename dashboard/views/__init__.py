"""Dashboard pages, registered with ``st.Page`` in ``dashboard/app.py``."""

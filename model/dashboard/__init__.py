"""An interactive page for trying policy designs for one city (Solara, Mesa's dashboard engine)."""

"""Wire formats for coordinator tools: member lists, pauses and CSV imports."""

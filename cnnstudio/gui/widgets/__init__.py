"""Small reusable widgets: image labels, the sample grid, the pixel view, top-k bars."""

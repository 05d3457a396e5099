"""The classification family's panels (chapters 1–5): filters, feature maps, Grad-CAM,
filter dreams, confusion, errors and epoch replay."""

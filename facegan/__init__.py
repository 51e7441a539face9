"""FaceGAN Studio: GAN-based face and scene synthesis behind one Gradio app."""

__version__ = "0.1.0"

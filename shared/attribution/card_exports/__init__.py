"""The card in the formats others read: a Hugging Face model card (``model-index``) and Model
Card Toolkit JSON, with the figures the card promised and those its predictions realized.
The CLI's ``cards export``; no function carries it."""

"""The vacancy catalog: schema, readers, text normalisation, industry inference."""

"""The HTTP service: FastAPI routes over the application layer (:mod:`vacrec.app.recommender`).

Routes are thin; the recommender composes the catalog snapshot, the live model
and the event store, so the API and ``vacrec simulate`` run the same code.
"""

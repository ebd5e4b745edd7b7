"""Flow 7's live stream: the analytics WebSocket API's connections (who follows which content) and
the pushes to them. ``services.StreamService`` answers ``$connect``/``subscribe``/``$disconnect``;
``marketplace.analytics.live.LiveStream`` fans the analytics feeders' updates out to connections."""

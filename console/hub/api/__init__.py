"""The API room: the gRPC services, the one builder of their messages, and the scope checks."""

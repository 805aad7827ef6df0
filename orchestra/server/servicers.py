"""gRPC servicers: translate requests to Plane calls and PlaneErrors to status codes. No logic here."""
from __future__ import annotations

import logging
import queue
import threading
from typing import Callable

import grpc
from google.protobuf.message import DecodeError

from orchestra.api import agent_pb2, orchestra_pb2_grpc
from orchestra.server.errors import PlaneError, ProtocolError
from orchestra.server.agent_hub import Refused
from orchestra.server.plane import Plane
from orchestra.server.sessions import SessionEnd
from orchestra.store.errors import StoreError

log = logging.getLogger("orchestra.server")


def _unary(fn: Callable):
    def handler(self, request, context):
        try:
            return fn(self, request, context)
        except PlaneError as exc:
            context.abort(exc.code, str(exc))
        except StoreError as exc:  # e.g. disk full: nothing was committed
            context.abort(grpc.StatusCode.UNAVAILABLE, f"the plane cannot write its state: {exc}")
    handler.__name__ = fn.__name__
    return handler


def _streaming(fn: Callable):
    def handler(self, request, context):
        try:
            yield from fn(self, request, context)
        except PlaneError as exc:
            context.abort(exc.code, str(exc))
        except StoreError as exc:
            context.abort(grpc.StatusCode.UNAVAILABLE, f"the plane cannot read its state: {exc}")
    handler.__name__ = fn.__name__
    return handler


class OrchestraServicer(orchestra_pb2_grpc.OrchestraServicer):
    def __init__(self, plane: Plane):
        self.service = plane.service

    @_unary
    def Apply(self, request, context):
        return self.service.apply(list(request.documents_json), dry_run=request.dry_run)

    @_unary
    def Delete(self, request, context):
        return self.service.delete(list(request.names), [(o.kind, o.name) for o in request.objects],
                                   with_volumes=request.volumes)

    @_unary
    def ListServices(self, request, context):
        return self.service.list_services()

    @_unary
    def DescribeService(self, request, context):
        return self.service.describe_service(request.name)

    @_unary
    def ListWorkloads(self, request, context):
        return self.service.list_workloads()

    @_unary
    def ListReplicas(self, request, context):
        return self.service.list_replicas(workload=request.workload, node=request.node)

    @_unary
    def ListNodes(self, request, context):
        return self.service.list_nodes()

    @_unary
    def DescribeWorkload(self, request, context):
        return self.service.describe_workload(request.name)

    @_unary
    def DescribeNode(self, request, context):
        return self.service.describe_node(request.name)

    @_unary
    def SetNodeSchedulable(self, request, context):
        return self.service.set_schedulable(request.name, request.schedulable)

    @_unary
    def RecordEvent(self, request, context):
        return self.service.record_event(request.kind, request.object, request.type, request.reason, request.message)

    @_unary
    def ListEvents(self, request, context):
        return self.service.list_events(request.object, request.limit)

    @_streaming
    def WatchEvents(self, request, context):
        yield from self.service.watch_events(request.after_id, request.object, context.is_active)

    @_streaming
    def Logs(self, request, context):
        yield from self.service.stream_logs(request.workload, request.replica, request.follow, request.tail,
                                          context.is_active)

    @_unary
    def GetRollout(self, request, context):
        return self.service.get_rollout(request.workload)

    @_unary
    def ListRevisions(self, request, context):
        return self.service.list_revisions(request.workload)

    @_unary
    def UndoRollout(self, request, context):
        return self.service.undo_rollout(request.workload, request.to_revision)

    @_unary
    def PauseRollout(self, request, context):
        return self.service.pause_rollout(request.workload, request.paused)

    @_unary
    def ListConfigs(self, request, context):
        return self.service.list_configs(request.name)

    @_unary
    def ListSecrets(self, request, context):
        return self.service.list_secrets(request.name)

    @_unary
    def ListVolumes(self, request, context):
        return self.service.list_volumes(request.workload, request.node)

    @_unary
    def MoveReplica(self, request, context):
        return self.service.move_replica(request.replica)

    @_unary
    def DrainNode(self, request, context):
        return self.service.drain_node(request.name, request.include_daemons)

    @_unary
    def ListPlanes(self, request, context):
        return self.service.list_planes()      # orchestra.server.leadership answers it, on every plane

    @_streaming
    def Exec(self, request_iterator, context):
        yield from self.service.exec(request_iterator, context.is_active)

    @_unary
    def LoadImage(self, request_iterator, context):
        return self.service.load_image(request_iterator, context.is_active)

    @_unary
    def ListImages(self, request, context):
        return self.service.list_images()


def parse_agent_message(raw: bytes) -> agent_pb2.AgentMessage:
    try:
        return agent_pb2.AgentMessage.FromString(raw)
    except (DecodeError, ValueError) as exc:
        raise ProtocolError(f"malformed AgentMessage ({len(raw)} bytes): {exc}") from exc


class AgentLinkServicer:
    """Session receives raw bytes (see grpc_server.py) so that garbage ends the session with
    INVALID_ARGUMENT instead of gRPC's generic deserialisation failure."""

    def __init__(self, plane: Plane, join: Callable | None = None):
        self.hub = plane.hub
        self.join = join

    def Join(self, request, context):
        if self.join is None:
            context.abort(grpc.StatusCode.UNIMPLEMENTED, "node enrolment (Join) is not enabled on this server")
        return self.join(request, context)

    def Session(self, request_iterator, context):
        try:
            first = parse_agent_message(next(request_iterator))
        except StopIteration:
            return
        except ProtocolError as exc:
            context.abort(exc.code, str(exc))
        kind = first.WhichOneof("msg")
        if kind != "hello":
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          f"the first message of a session must be hello, got {kind or 'an empty message'}")
        try:
            session = self.hub.open_session(first.hello)
        except Refused as exc:
            yield agent_pb2.PlaneMessage(refusal=agent_pb2.Refusal(reason=str(exc)))
            return
        reader = threading.Thread(target=self._read, args=(session, request_iterator),
                                  name=f"session-{session.node}", daemon=True)
        reader.start()
        try:
            while True:
                try:
                    item = session.outbox.get(timeout=1.0)
                except queue.Empty:
                    if not context.is_active():
                        return
                    continue
                if isinstance(item, SessionEnd):
                    if item.code is not None:
                        context.abort(item.code, item.message)
                    return
                yield item
        finally:
            self.hub.close_session(session)

    def _read(self, session, request_iterator) -> None:
        try:
            for raw in request_iterator:
                self.hub.on_message(session, parse_agent_message(raw))
        except ProtocolError as exc:
            session.end(exc.code, str(exc))
            return
        except grpc.RpcError:
            pass  # the stream broke; liveness takes it from here
        except Exception as exc:  # a bug must end this session only, never the plane
            log.exception("session of node %s failed", session.node)
            session.end(grpc.StatusCode.INTERNAL, f"plane error: {exc}")
            return
        session.end(None, "the agent closed the stream")

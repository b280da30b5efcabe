"""Push devices registered by users."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import NotFound
from server.security.tokens import hash_token
from server.storage.models import PushDevice, utcnow
from shared.schemas.devices import DeviceRegister


async def register_device(
    *, session: AsyncSession, user_id: int, device_in: DeviceRegister
) -> PushDevice:
    """Add a device, or move an already known token to this user and refresh it."""
    token_hash = hash_token(device_in.token)
    device = await session.scalar(select(PushDevice).where(PushDevice.token_hash == token_hash))
    if device is None:
        device = PushDevice(token_hash=token_hash, user_id=user_id)
        session.add(device)
    device.user_id = user_id
    device.platform = device_in.platform.value
    device.token = device_in.token
    device.keys = device_in.keys
    device.name = device_in.name
    device.last_seen_at = utcnow()
    await session.flush()
    return device


async def list_devices(*, session: AsyncSession, user_id: int) -> Sequence[PushDevice]:
    query = select(PushDevice).where(PushDevice.user_id == user_id).order_by(PushDevice.id)
    return (await session.scalars(query)).all()


async def delete_device(*, session: AsyncSession, user_id: int, device_id: int) -> None:
    device = await session.get(PushDevice, device_id)
    if device is None or device.user_id != user_id:
        raise NotFound(f"device {device_id} not found")
    await session.delete(device)
    await session.flush()
